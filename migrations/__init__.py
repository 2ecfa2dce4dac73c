"""The Alembic migrations, shipped in the wheel so ``hotline db upgrade`` finds them installed
(:mod:`hotline.db.migrate` locates this package, never the working directory)."""
