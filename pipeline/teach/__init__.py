"""Teaching exports: the redacted pack, face redaction and personal-detail redaction."""
