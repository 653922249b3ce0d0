"""Data linked to employees' accounts across Facito products: records by product and category,
ingested from customer systems, listed without content, content read under audit."""
