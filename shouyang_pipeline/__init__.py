"""shouyang-pipeline: 寿阳县部门报送 → 校验 → DuckDB 数据仓库 → 指标与月度简报."""
