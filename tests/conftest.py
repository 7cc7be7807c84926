import pytest


def pytest_collection_modifyitems(items):
    # Everything under tests/integration (and tests/faults, which kills and damages real sweeps) runs a real
    # Ray and MLflow store: marked, so `-m "not integration and not faults"` gives the fast unit suite.
    for item in items:
        if "/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
        if "/faults/" in str(item.fspath):
            item.add_marker(pytest.mark.faults)
        if "/cluster/" in str(item.fspath):
            item.add_marker(pytest.mark.cluster)
