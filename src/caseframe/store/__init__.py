"""The project store: schema, migrations, queries and transactions (SQLAlchemy 2 Core)."""
