"""(not yet implemented)"""
HELP = "(not yet implemented)"
def add_arguments(parser) -> None:
    pass
def run(args) -> int:
    from captioner.errors import UsageError
    raise UsageError("not implemented yet")
