"""Scale-out engines for ``arcnn restore``: the same pipeline and output rules as the local engine,
run by a distributed executor (``--engine ray``) over local folders or object-store URLs."""
