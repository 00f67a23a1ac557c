"""Job-readiness workshops (talleres de apresto laboral): topics, series, sessions."""
