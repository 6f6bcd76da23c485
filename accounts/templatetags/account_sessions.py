from django import template

from accounts import sessions

register = template.Library()


@register.simple_tag(takes_context=True)
def user_sessions(context) -> list:
    """`{% user_sessions as sessions %}`: the signed-in user's sessions, this one first."""
    return sessions.session_list(context["request"])
