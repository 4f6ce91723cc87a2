"""Petitions under the first-receiver-responsible rule (信访首接首办)."""
