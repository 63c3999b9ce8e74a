"""Coverage-guided fuzzing of arcnn's untrusted-input surfaces (docs/fuzzing.md)."""
