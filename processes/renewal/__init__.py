"""残疾人证换领 (certificate renewal): the procedure has no records of its own, only its start
check (the applicant's ID and certificate number, checked as every form checks them)."""
