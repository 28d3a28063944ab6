-- Production schemas, created by the demo's upstream simulator (on Databricks the platform
-- team owns them; Driftgate never creates them).
CREATE SCHEMA IF NOT EXISTS prod.retail;
CREATE SCHEMA IF NOT EXISTS prod.features;
CREATE SCHEMA IF NOT EXISTS prod.training;
CREATE SCHEMA IF NOT EXISTS prod.inference;
