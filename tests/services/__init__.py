"""Service fixtures: real PostgreSQL, S3 (moto), GCS emulator, Prometheus, Pushgateway, webhook receiver.

Each module is a pytest plugin loaded by ``tests/conftest.py``; the test_*.py files
next to them are the smoke tests proving each fixture by writing and reading through it.
"""
