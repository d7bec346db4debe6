"""Repository-wide pytest hooks (nbval settings for the notebooks)."""


def pytest_collection_modifyitems(items):
    # nbval waits only 5 s for each output message by default; a cell that trains a small
    # network on 2 cores can be quiet for longer than that.
    for item in items:
        if hasattr(item, "output_timeout"):
            item.output_timeout = 60
