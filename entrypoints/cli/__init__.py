"""The `jingzhun` command line: thin commands (parse, call one service function, render)."""
