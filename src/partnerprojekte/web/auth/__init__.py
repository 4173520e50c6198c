"""Anmeldung und Konten ohne Seiten: Sitzungen, Tokens und Sperren (security), Aktivierung
(accounts), Personenverwaltung (people)."""
