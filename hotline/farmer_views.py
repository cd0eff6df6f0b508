"""(being built)"""
from flask import Blueprint

bp = Blueprint("questions", __name__)
