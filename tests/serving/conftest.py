"""The serving tests' model and photos: the session's tiny trained caption model, loaded once per module."""

import pytest


@pytest.fixture(scope="module")
def model(trained):
    """The session's tiny trained caption model, loaded."""
    import captioner

    return captioner.load(str(trained / "model"), announce=False)


@pytest.fixture(scope="module")
def photos(synthetic) -> list:
    return sorted((synthetic / "Images").glob("*.jpg"))
