"""The brand's insights: an index of the tracker store (index.py), the page's figures (queries.py), the page
itself (page.py), and the sources it reads (store.py). docs/insights.md explains the choices."""
