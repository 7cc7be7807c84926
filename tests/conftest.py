import pytest


def pytest_collection_modifyitems(items):
    # Everything under tests/integration runs a real Ray and MLflow store: mark it so `-m "not integration"`
    # gives the fast unit suite.
    for item in items:
        if "/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
        if "/cluster/" in str(item.fspath):
            item.add_marker(pytest.mark.cluster)
