"""Die Seiten (Jinja2): je Bereich ein Modul, router.py setzt sie zusammen."""
