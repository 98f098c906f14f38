"""The evaluation benchmark (`make bench`, `python -m bench`): the program against a raw-SDK
baseline that registers the same custom resources, each run in a fresh process."""
