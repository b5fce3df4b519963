"""Great Expectations: the validation runs (runner) and the service process that runs them for
large ingests (service)."""
