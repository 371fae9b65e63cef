"""Where clips and money are kept: the content-addressed cache (cache), atomic files and locks (files),
and the bounded spend of a run (budget)."""
