"""The medication subsidy's writes, a module per stage of the year."""
