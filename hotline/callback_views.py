"""(being built)"""
from flask import Blueprint

bp = Blueprint("voice_callback", __name__)
