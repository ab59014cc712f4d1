"""Settings split base/local/test/production (cookiecutter-django shape).

`ppo_case.settings` itself is the production module's alias for operators who
point DJANGO_SETTINGS_MODULE at the package: import it explicitly instead.
"""
