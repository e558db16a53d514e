package dev.fieldsync.support

/**
 * Just enough JSON for the tests (no serialization library is available offline): [write] turns maps, lists,
 * strings, numbers, booleans and null into text; [parse] turns text back into those (numbers as Long when
 * integral, else Double).
 */
object Json {
    fun write(value: Any?): String = StringBuilder().also { write(value, it) }.toString()

    private fun write(value: Any?, out: StringBuilder) {
        when (value) {
            null -> out.append("null")
            is String -> quote(value, out)
            is Boolean, is Int, is Long -> out.append(value.toString())
            is Double -> { require(value.isFinite()) { "JSON has no $value" }; out.append(value.toString()) }
            is Map<*, *> -> {
                out.append('{')
                value.entries.forEachIndexed { index, (key, item) ->
                    if (index > 0) out.append(',')
                    quote(key as String, out)
                    out.append(':')
                    write(item, out)
                }
                out.append('}')
            }
            is Iterable<*> -> {
                out.append('[')
                value.forEachIndexed { index, item -> if (index > 0) out.append(','); write(item, out) }
                out.append(']')
            }
            else -> error("cannot write ${value.javaClass} as JSON")
        }
    }

    private fun quote(text: String, out: StringBuilder) {
        out.append('"')
        for (char in text) {
            when {
                char == '"' -> out.append("\\\"")
                char == '\\' -> out.append("\\\\")
                char == '\n' -> out.append("\\n")
                char == '\r' -> out.append("\\r")
                char == '\t' -> out.append("\\t")
                char < ' ' -> out.append("\\u%04x".format(char.code))
                else -> out.append(char)
            }
        }
        out.append('"')
    }

    fun parse(text: String): Any? = Parser(text).run {
        val value = value()
        skipSpace()
        require(at == text.length) { "trailing characters at $at in JSON" }
        value
    }

    @Suppress("UNCHECKED_CAST")
    fun obj(text: String): Map<String, Any?> = parse(text) as Map<String, Any?>

    @Suppress("UNCHECKED_CAST")
    fun array(text: String): List<Any?> = parse(text) as List<Any?>

    private class Parser(val text: String) {
        var at = 0

        fun skipSpace() {
            while (at < text.length && text[at].isWhitespace()) at++
        }

        fun value(): Any? {
            skipSpace()
            require(at < text.length) { "unexpected end of JSON" }
            return when (val char = text[at]) {
                '{' -> objectValue()
                '[' -> arrayValue()
                '"' -> stringValue()
                't' -> literal("true", true)
                'f' -> literal("false", false)
                'n' -> literal("null", null)
                else -> if (char == '-' || char.isDigit()) number() else error("unexpected '$char' at $at in JSON")
            }
        }

        private fun literal(word: String, value: Any?): Any? {
            require(text.startsWith(word, at)) { "bad literal at $at in JSON" }
            at += word.length
            return value
        }

        private fun number(): Any {
            val start = at
            while (at < text.length && (text[at].isDigit() || text[at] in "+-.eE")) at++
            val token = text.substring(start, at)
            return token.toLongOrNull() ?: token.toDouble()
        }

        private fun stringValue(): String {
            at++ // opening quote
            val out = StringBuilder()
            while (true) {
                require(at < text.length) { "unterminated string in JSON" }
                val char = text[at++]
                when (char) {
                    '"' -> return out.toString()
                    '\\' -> {
                        when (val escaped = text[at++]) {
                            'n' -> out.append('\n')
                            'r' -> out.append('\r')
                            't' -> out.append('\t')
                            'b' -> out.append('\b')
                            'f' -> out.append('\u000C')
                            'u' -> { out.append(text.substring(at, at + 4).toInt(16).toChar()); at += 4 }
                            else -> out.append(escaped)
                        }
                    }
                    else -> out.append(char)
                }
            }
        }

        private fun arrayValue(): List<Any?> {
            at++
            val items = mutableListOf<Any?>()
            skipSpace()
            if (text[at] == ']') { at++; return items }
            while (true) {
                items += value()
                skipSpace()
                when (text[at++]) {
                    ',' -> continue
                    ']' -> return items
                    else -> error("expected , or ] at ${at - 1} in JSON")
                }
            }
        }

        private fun objectValue(): Map<String, Any?> {
            at++
            val members = linkedMapOf<String, Any?>()
            skipSpace()
            if (text[at] == '}') { at++; return members }
            while (true) {
                skipSpace()
                val key = stringValue()
                skipSpace()
                require(text[at++] == ':') { "expected : at ${at - 1} in JSON" }
                members[key] = value()
                skipSpace()
                when (text[at++]) {
                    ',' -> continue
                    '}' -> return members
                    else -> error("expected , or } at ${at - 1} in JSON")
                }
            }
        }
    }
}
