"""Distribution: beamlet nodes in Erlang clusters (see docs/distribution.md)."""
