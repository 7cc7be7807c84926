"""hpo.run()'s bad input (pipelines/api.py): the same checks as `hpo run`, naming its keywords. No Ray starts."""
import pytest

import hpo
from pipelines.errors import InputError


@pytest.mark.parametrize("flags, said", [({"trials": 0}, "--trials is trials="),
                                         ({"max_epochs": -1}, "--max-epochs is max_epochs="),
                                         ({"epochs": 3}, "takes no flag 'epochs'")])
def test_bad_input_names_the_keyword(tmp_path, flags, said):
    with pytest.raises(InputError, match=said):
        hpo.run("binary", storage=str(tmp_path / "ray_results"), **flags)
    assert not (tmp_path / "ray_results").exists()
