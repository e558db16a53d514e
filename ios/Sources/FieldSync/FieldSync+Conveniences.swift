// Swift conveniences over the generated API. Platform-neutral: also compiled into the Linux test package.
//
// Every composition here that reads or writes is `async` and does its work off the caller's actor (through
// the overloads of FieldSync+Async.swift, or the generated `async` calls that run on the library's own
// threads). uniffi's Swift does not observe task cancellation: to stop the work (not only the wait), pass
// a `Cancellation` and cancel it, as `performBackgroundSync(until:)` (FieldSync+Background.swift) does.

import Foundation

extension FieldSyncError {
    /// What went wrong, from the library (never holds credentials).
    public var reason: String {
        switch self {
        case let .Network(reason, _), let .Auth(reason, _), let .SecretUnreadable(reason, _),
             let .CheckInRefused(reason, _, _),
             let .InvalidInput(reason), let .NotFound(reason), let .Conflict(reason, _),
             let .CompletionBlocked(reason, _), let .SurveyIncomplete(reason, _, _), let .Provider(reason),
             let .Storage(reason), let .Cancelled(reason), let .Paused(reason), let .DeadlineReached(reason),
             let .Internal(reason):
            return reason
        }
    }

    /// Which conflict it is (`Conflict`), else nil.
    public var conflictKind: ConflictKind? {
        if case let .Conflict(_, kind) = self { return kind }
        return nil
    }

    /// The rules a refused check-in broke (`CheckInRefused`), else nil.
    public var failedRules: [String]? {
        if case let .CheckInRefused(_, _, rules) = self { return rules }
        return nil
    }

    /// The requirements that blocked a completion (`CompletionBlocked`), else nil.
    public var unmetRequirements: [UnmetRequirement]? {
        if case let .CompletionBlocked(_, unmet) = self { return unmet }
        return nil
    }

    /// The questions still to answer of a refused survey submission (`SurveyIncomplete`), else nil.
    public var missingAnswers: [String]? {
        if case let .SurveyIncomplete(_, missing, _) = self { return missing }
        return nil
    }

    /// True when trying again later may succeed (the network or the provider was unavailable).
    public var isRetryable: Bool {
        if case .Network = self { return true }
        return false
    }

    /// How long the provider asked us to wait, when it said.
    public var retryAfter: TimeInterval? {
        if case let .Network(_, seconds?) = self { return TimeInterval(seconds) }
        return nil
    }

    /// True when the call was stopped (cancelled, paused or out of time) rather than failed: its work goes
    /// again at the next sync or after `resume()`.
    public var isInterruption: Bool {
        switch self {
        case .Cancelled, .Paused, .DeadlineReached: return true
        default: return false
        }
    }

    /// True when the user must enter the provider credentials again: the provider refused them (`Auth`), or
    /// the saved ones cannot be decrypted on this device (`SecretUnreadable`).
    public var needsSignIn: Bool {
        switch self {
        case .Auth, .SecretUnreadable: return true
        default: return false
        }
    }

    /// Any error thrown by a generated call, as a `FieldSyncError` (`Internal` for the rare others).
    public init(_ error: Error) {
        self = error as? FieldSyncError ?? .Internal(reason: String(describing: error))
    }
}

extension FieldSync {
    /// Links a provider login: creates the integration, then validates the credentials with the provider.
    /// Nothing stays saved unless the provider accepted them: on any failure the integration is deleted
    /// again and the error is thrown (`FieldSyncError.Auth` when the provider refused the credentials).
    @discardableResult
    public func link(_ new: NewIntegration, password: String, token: String? = nil) async throws -> Integration {
        let created = try await createIntegration(integration: new, password: password, token: token)
        do {
            let validation = try await validate(code: created.code)
            guard validation.validated else {
                throw FieldSyncError.Auth(
                    reason: validation.error ?? "the provider refused the credentials", integration: created.code)
            }
            return try await integration(code: created.code)
        } catch {
            _ = try? await deleteIntegration(code: created.code, force: false)
            throw error
        }
    }

    /// Refreshes several integrations concurrently (every integration when `codes` is nil), one child task
    /// each, and returns every outcome by code: one failing provider does not hide the others' results.
    public func refreshAll(
        codes: [String]? = nil,
        mode: RefreshMode = .changes
    ) async throws -> [String: Result<ImportReport, FieldSyncError>] {
        var every = codes ?? []
        if codes == nil {
            every = try await integrations().map(\.code)
        }
        return await withTaskGroup(of: (String, Result<ImportReport, FieldSyncError>).self) { group in
            for code in every {
                group.addTask {
                    do {
                        return (code, .success(try await self.refresh(code: code, mode: mode)))
                    } catch {
                        return (code, .failure(FieldSyncError(error)))
                    }
                }
            }
            var outcomes: [String: Result<ImportReport, FieldSyncError>] = [:]
            for await (code, outcome) in group {
                outcomes[code] = outcome
            }
            return outcomes
        }
    }

    /// Every project matching `query`, read page by page with the keyset (`after`: the last id of the
    /// previous page), so no row is repeated or skipped while projects arrive. `query.limit`, `offset` and
    /// `after` are ignored.
    public func allProjects(
        _ query: ProjectQuery = ProjectQuery(),
        pageSize: UInt32 = 200
    ) async throws -> [ProjectSummary] {
        var page = query
        page.limit = max(pageSize, 1)
        page.offset = 0
        page.after = nil
        var all: [ProjectSummary] = []
        while true {
            let rows = try await projects(query: page)
            all.append(contentsOf: rows)
            guard rows.count == Int(page.limit), let last = rows.last else { return all }
            page.after = last.id
        }
    }

    /// Sets a project's status locally and queues the change for the provider (e.g. `"Complete"`).
    @discardableResult
    public func setStatus(_ status: String, ofProject id: String) async throws -> Project {
        try await editProject(id: id, edit: ProjectEdit(status: status))
    }
}

extension FieldSync {
    /// Saves several answers of a task's survey, in order (each durably, as `saveSurveyAnswer` does), and
    /// returns the survey as it is then. Stops at the first refused answer (the earlier ones stay saved).
    @discardableResult
    public func saveSurveyAnswers(
        _ answers: [(question: String, answer: SurveyAnswer)],
        projectId: String,
        task: String
    ) async throws -> TaskSurvey {
        for (question, answer) in answers {
            _ = try await saveSurveyAnswer(projectId: projectId, task: task, questionId: question, answer: answer)
        }
        return try await taskSurvey(projectId: projectId, task: task)
    }
}

extension TaskSurvey {
    /// The state of one question, by id.
    public func question(_ id: String) -> QuestionState? {
        questions.first { $0.question.id == id }
    }
}

extension Project {
    /// `optionsJson` decoded (an empty dictionary if it is not a JSON object).
    public var options: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(optionsJson.utf8))) as? [String: Any] ?? [:]
    }
}
