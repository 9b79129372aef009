"""Every training test module runs in a working directory of its own: a file a (mutated) trainer writes to a
relative path by mistake lands there, and no later run, or mutant, can read it back as if it were its own."""

import pytest


@pytest.fixture(scope="module", autouse=True)
def _own_working_directory(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path_factory.mktemp("cwd"))
        yield
