"""Transforms: the dbt project (staging -> intermediate -> marts) and its runner."""
