import pytest

from conveyor.ir import parse_cpu, parse_duration, parse_memory


@pytest.mark.parametrize(("text", "cores"), [("500m", 0.5), ("2", 2.0), (1.5, 1.5), ("0.25", 0.25), (4, 4.0)])
def test_cpu(text, cores):
    assert parse_cpu(text) == cores


@pytest.mark.parametrize("bad", ["2 cores", "1Gi", "", "-1", 0, True, "m"])
def test_cpu_errors_name_value(bad):
    with pytest.raises(ValueError, match="cpu"):
        parse_cpu(bad)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("2Gi", 2 * 2**30),
        ("16G", 16 * 10**9),
        ("512Mi", 512 * 2**20),
        ("100M", 10**8),
        (1024, 1024),
        ("1.5Gi", 3 * 2**29),
    ],
)
def test_memory(text, size):
    assert parse_memory(text) == size


@pytest.mark.parametrize("bad", ["2GB", "lots", "", 0, "-1Gi"])
def test_memory_errors_name_value(bad):
    with pytest.raises(ValueError, match="memory quantity"):
        parse_memory(bad)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("1h30m", 5400), ("3600", 3600), (90, 90), ("250ms", 0.25)],
)
def test_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["soon", "5x", "-3", "1h junk"])
def test_duration_errors(bad):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)
