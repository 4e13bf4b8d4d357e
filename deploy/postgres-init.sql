-- First start of the compose PostgreSQL: a database for Dagster's own storage, owned by
-- the application role (the `xeno` database is created by POSTGRES_DB).
create database dagster owner xeno;
