"""(being built)"""
from flask import Blueprint

bp = Blueprint("answers", __name__)
