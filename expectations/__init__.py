"""Great Expectations suites, written as code (STYLE.md): named Expectation subclasses with
Chinese descriptions. ``ingest`` gates every batch of submitted rows; ``signals`` turns
derived tables into audit signals."""
