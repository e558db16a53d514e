# The two commands of the README.
.PHONY: demo test bench

demo:
	cargo run --release -p fieldsync-cli -- demo

test:
	bash scripts/test.sh

bench:
	cargo bench -p fieldsync-tests --bench import
	cargo bench -p fieldsync-tests --bench sync
	cargo bench -p fieldsync-tests --bench checkin
	cargo bench -p fieldsync-tests --bench relay
	cargo bench -p fieldsync-tests --bench fieldwork
	cargo bench -p fieldsync-tests --bench survey
	cargo bench -p fieldsync-tests --bench lifecycle
	cargo bench -p fieldsync-tests --bench search
