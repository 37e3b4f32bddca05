"""SQL persistence on SQLAlchemy Core: tables, repositories, unit of work and migrations."""
