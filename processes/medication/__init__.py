"""The yearly medication subsidy for poor persons with psychiatric disabilities
(困难精神残疾人药费补助): cycles, entries, reference data, payouts."""
