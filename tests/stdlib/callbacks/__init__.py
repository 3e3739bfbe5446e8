"""Small callback classes used by the behaviour tests (like OTP's *_SUITE_data)."""
