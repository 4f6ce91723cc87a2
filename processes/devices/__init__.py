"""Basic assistive-device fitting (基本型辅助器具适配): application, checks, assessment, approval
with the subsidy decided by a DMN table, procurement from agreement institutions, fitting,
follow-up and the monthly settlement to each institution."""
