"""The form renderer: Django's own form and widget templates through Jinja2 (compiled to
Python), any other template (the admin's widget wrappers) through the Django engine.

A select renders each option through a template; with the Django engine the desk queue's
filter and bulk bars were half of the page's time. Django's Jinja2 renderer alone cannot
render the admin's widgets, whose templates exist only for the Django engine."""

from typing import Any

from django.forms.renderers import BaseRenderer, DjangoTemplates, Jinja2
from django.template.exceptions import TemplateDoesNotExist


class FormRenderer(BaseRenderer):
    def __init__(self) -> None:
        self.jinja2 = Jinja2()
        self.django = DjangoTemplates()

    def get_template(self, template_name: str) -> Any:
        try:
            return self.jinja2.get_template(template_name)
        except TemplateDoesNotExist:
            return self.django.get_template(template_name)
