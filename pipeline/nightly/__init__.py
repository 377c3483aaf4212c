"""After the batch: the nightly report, retention and legal holds."""
