#!/bin/sh
# Runs once, when the compose Postgres volume is new (docker-entrypoint-initdb.d): the admin
# role the migration service uses (it creates the schemas, owner roles and grants) and one
# login role per service, each with PASSAGE_DB_PASSWORD (a laptop; Kubernetes gives each its own).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v password="$PASSAGE_DB_PASSWORD" <<'SQL'
CREATE ROLE passage_admin LOGIN CREATEROLE PASSWORD :'password';
CREATE DATABASE passage OWNER passage_admin;
CREATE ROLE passage_directory LOGIN PASSWORD :'password';
CREATE ROLE passage_consent LOGIN PASSWORD :'password';
CREATE ROLE passage_referrals LOGIN PASSWORD :'password';
CREATE ROLE passage_audit LOGIN PASSWORD :'password';
CREATE ROLE passage_escalation LOGIN PASSWORD :'password';
CREATE ROLE passage_gateway LOGIN PASSWORD :'password';
SQL
