# The two commands a newcomer needs. Both install missing tools first.
.PHONY: serve test
serve:
	@bash scripts/serve
test:
	@bash scripts/test
