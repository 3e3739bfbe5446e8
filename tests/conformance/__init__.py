"""Conformance of beamlet's core runtime against real Erlang/OTP (see README.md)."""
