"""(being built)"""
from flask import Blueprint

bp = Blueprint("hotline", __name__)
