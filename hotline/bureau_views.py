"""(being built)"""
from flask import Blueprint

bp = Blueprint("hotline_bureau", __name__)
