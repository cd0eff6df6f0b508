"""(being built)"""
from flask import Blueprint

bp = Blueprint("menu_editor", __name__)

prompts_bp = Blueprint("voice_prompts", __name__)
