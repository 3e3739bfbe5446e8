"""beamlet's OTP library: behaviours and tools built on the `vm` package."""
