"""Closing the GenAIOps loop over what the pipeline stored: human feedback against the scorers
(agreement.py), a prompt-version gate for CI (gate.py), cost-aware model advice (recommend.py).

Reads ClickHouse through a clickhouse-connect client it is given; scores nothing itself (the
gate is handed the scorers by the cli, which wires the stages together).
"""
