"""Small gen_statem callback classes used by tests/stdlib/test_gen_statem.py."""
