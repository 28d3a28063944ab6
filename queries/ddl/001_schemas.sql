-- Schemas of the governance store and of both environments.
-- Environment data: retail (raw), features, training (datasets), inference (logs).
CREATE SCHEMA IF NOT EXISTS governance;
CREATE SCHEMA IF NOT EXISTS lineage;
CREATE SCHEMA IF NOT EXISTS uat.retail;
CREATE SCHEMA IF NOT EXISTS uat.features;
CREATE SCHEMA IF NOT EXISTS uat.training;
CREATE SCHEMA IF NOT EXISTS uat.inference;
CREATE SCHEMA IF NOT EXISTS uat.evaluation;
